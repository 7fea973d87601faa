// What the release workflow (.github/workflows/release.yml) needs to know about a tag, checked before anything is
// built: the tag is v<version> and every file names that version (tools/set-version.ts), the CHANGELOG has notes for
// it, and the Dockerfile's stages share one base image pinned by digest. Printed as GitHub step outputs:
//
//   node tools/release-info.ts v0.2.0 >> "$GITHUB_OUTPUT"
//
// version, prerelease (true for 1.2.3-rc.1), base-name and base-digest (the image's OCI base labels), notes.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isVersion, packageVersion, repoRoot, versionProblems } from './set-version.ts';

/** The CHANGELOG section of `version`, without its heading; an error when it is missing or empty. */
export function changelogSection(text: string, version: string): string {
  const heading = new RegExp(`^## \\[${version.replaceAll('.', '\\.')}\\].*$`, 'm').exec(text);
  if (!heading) throw new Error(`CHANGELOG.md has no section "## [${version}]" (npm version moves Unreleased there)`);
  const body = text.slice(heading.index + heading[0].length + 1);
  const end = body.search(/^## \[|^\[[^\]]+\]: /m);
  const notes = (end < 0 ? body : body.slice(0, end)).trim();
  if (!notes) throw new Error(`CHANGELOG.md: the section of ${version} is empty`);
  return notes;
}

/** The base image of every stage: one image, pinned by digest (Dependabot moves the FROM lines together). */
export function baseImage(dockerfile: string): { name: string; digest: string } {
  const froms = [...dockerfile.matchAll(/^FROM\s+(?:--platform=\S+\s+)?(\S+)/gm)].map((m) => m[1]!);
  const bases = [...new Set(froms)];
  if (bases.length !== 1) throw new Error(`Dockerfile: the stages name ${bases.length} base images (${bases.join(', ')}), not one`);
  const m = /^([^@]+)@(sha256:[0-9a-f]{64})$/.exec(bases[0]!);
  if (!m) throw new Error(`Dockerfile: the base image ${bases[0]} is not pinned by digest (<image>:<tag>@sha256:<digest>)`);
  // Docker Hub's official images by their full name, as the OCI annotation spec asks.
  const name = m[1]!.includes('/') ? m[1]! : `docker.io/library/${m[1]}`;
  return { name, digest: m[2]! };
}

export function releaseInfo(tag: string, root = repoRoot): Record<string, string> {
  const version = tag.replace(/^v/, '');
  if (!tag.startsWith('v') || !isVersion(version)) throw new Error(`tag ${tag} is not v<version> (v1.2.3, v1.2.3-rc.1)`);
  if (packageVersion(root) !== version) throw new Error(`tag ${tag}, but package.json says ${packageVersion(root)} (npm version ${version} sets it)`);
  const problems = versionProblems(root);
  if (problems.length) throw new Error(`the files disagree on the version:\n${problems.join('\n')}`);
  const base = baseImage(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  return {
    version,
    prerelease: String(version.includes('-')),
    'base-name': base.name,
    'base-digest': base.digest,
    notes: changelogSection(readFileSync(join(root, 'CHANGELOG.md'), 'utf8'), version),
  };
}

/** GitHub's step-output file format; multi-line values between a delimiter that cannot occur in them. */
export function githubOutputs(values: Record<string, string>): string {
  return Object.entries(values).map(([k, v]) => {
    if (!v.includes('\n')) return `${k}=${v}\n`;
    const delimiter = `EOF_${randomUUID()}`;
    return `${k}<<${delimiter}\n${v}\n${delimiter}\n`;
  }).join('');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.stdout.write(githubOutputs(releaseInfo(process.argv[2] ?? '')));
  } catch (e) {
    // A workflow error annotation, shown on the run's summary.
    console.error(`::error::${(e as Error).message.replaceAll('\n', '%0A')}`);
    process.exit(1);
  }
}

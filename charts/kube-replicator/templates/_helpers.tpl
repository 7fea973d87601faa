{{/* Chart name, overridable. */}}
{{- define "kube-replicator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object name prefix: <release>-<chart>, or <release> when it already contains the chart name. */}}
{{- define "kube-replicator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "kube-replicator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kube-replicator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kube-replicator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kube-replicator.labels" -}}
helm.sh/chart: {{ include "kube-replicator.chart" . }}
{{ include "kube-replicator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The operator's ServiceAccount: serviceAccount.name, or the release's full name. */}}
{{- define "kube-replicator.serviceAccountName" -}}
{{- if .Values.serviceAccount.name }}
{{- .Values.serviceAccount.name }}
{{- else if .Values.serviceAccount.create }}
{{- include "kube-replicator.fullname" . }}
{{- else }}
{{- fail "serviceAccount.create=false needs serviceAccount.name: the existing ServiceAccount the operator runs as" }}
{{- end }}
{{- end }}

{{/* The image: repository@digest when a digest is set, else repository:tag (default: the chart's appVersion). */}}
{{- define "kube-replicator.image" -}}
{{- /* Checked here rather than in the schema, whose "not" failures name no reason. */}}
{{- if contains "mittwald" .Values.image.repository }}
{{- fail (printf "image.repository=%s is mittwald/kubernetes-replicator's image, carried over from its chart: leave it unset (upgrade with --reset-values)" .Values.image.repository) }}
{{- end }}
{{- if regexMatch "^v2\\." .Values.image.tag }}
{{- fail (printf "image.tag=%s is a mittwald/kubernetes-replicator version, carried over from its chart; kube-replicator's tags have no leading v: leave it unset for the chart's appVersion (upgrade with --reset-values)" .Values.image.tag) }}
{{- end }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* The RBAC-writer ServiceAccount, impersonated for every Role/RoleBinding write (52 + 12 characters max). */}}
{{- define "kube-replicator.rbacWriterName" -}}
{{- printf "%s-rbac-writer" (include "kube-replicator.fullname" . | trunc 51 | trimSuffix "-") }}
{{- end }}

{{/* Non-empty when Roles or RoleBindings are replicated (the RBAC writer exists), else "". */}}
{{- define "kube-replicator.rbacKinds" -}}
{{- range (include "kube-replicator.enabledKinds" . | fromYamlArray) }}{{ if .rbac }}true{{ end }}{{ end }}
{{- end }}

{{/*
The kinds this release replicates, a YAML list of { group, version, resource, rbac }: the built-in kinds enabled
under .Values.replicate (_kinds.tpl), then .Values.extraKinds (group/version/Kind; core group: version/Kind). An
extra kind's resource is guessed from its Kind (lower case; -s, -x, -z, -ch, -sh take -es; a consonant before -y
makes -ies; else -s); the operator reads the real one from discovery.
*/}}
{{- define "kube-replicator.enabledKinds" -}}
{{- range (include "kube-replicator.builtinKinds" . | fromYamlArray) }}
{{- if index $.Values.replicate .value }}
- { group: {{ .group | quote }}, version: {{ .version }}, resource: {{ .resource }}, rbac: {{ .rbac }} }
{{- end }}
{{- end }}
{{- range .Values.extraKinds }}
{{- $parts := splitList "/" . }}
{{- $lower := lower (last $parts) }}
{{- $resource := printf "%ss" $lower }}
{{- if regexMatch "(s|x|z|ch|sh)$" $lower }}{{ $resource = printf "%ses" $lower }}
{{- else if regexMatch "[^aeiou]y$" $lower }}{{ $resource = printf "%sies" (trimSuffix "y" $lower) }}{{ end }}
- { group: {{ ternary (first $parts) "" (eq (len $parts) 3) | quote }}, version: {{ index $parts (sub (len $parts) 2) }}, resource: {{ $resource }}, rbac: false }
{{- end }}
{{- end }}

{{/* The operator's arguments, one per line as a YAML list. */}}
{{- define "kube-replicator.args" -}}
- run
- --resync-period={{ .Values.resyncPeriod }}
- --log-level={{ .Values.logLevel }}
- --log-format={{ .Values.logFormat }}
- --concurrency={{ .Values.concurrency }}
- --watch-inactivity={{ .Values.watchInactivity }}
- --cache-sync-timeout={{ .Values.cacheSyncTimeout }}
- --pattern-memory-budget={{ .Values.patternMemoryBudget }}
- --settings-configmap={{ include "kube-replicator.fullname" . }}-settings
{{- range (include "kube-replicator.builtinKinds" . | fromYamlArray) }}
{{- if not (index $.Values.replicate .value) }}
- --{{ .flag }}=false
{{- end }}
{{- end }}
{{- with .Values.extraKinds }}
- --extra-kinds={{ join "," . }}
{{- end }}
{{- if include "kube-replicator.rbacKinds" . }}
{{- /* A bare name: the operator's own namespace, so that a kustomize overlay moving the operator moves it too. */}}
- --rbac-writer={{ include "kube-replicator.rbacWriterName" . }}
{{- end }}
{{- if .Values.allowAll }}
- --allow-all
{{- end }}
{{- with .Values.excludeNamespaces }}
- {{ printf "--exclude-namespaces=%s" (join "," .) | quote }}
{{- end }}
{{- if .Values.adoptExisting }}
- --adopt-existing
{{- end }}
{{- with .Values.trustedRbacNamespaces }}
- {{ printf "--trusted-rbac-namespaces=%s" (join "," .) | quote }}
{{- end }}
{{- with .Values.trustedSourceNamespaces }}
- {{ printf "--trusted-source-namespaces=%s" (join "," .) | quote }}
{{- end }}
- {{ printf "--protected-namespaces=%s" (join "," .Values.protectedNamespaces) | quote }}
- {{ printf "--never-replicate-secret-types=%s" (join "," .Values.neverReplicateSecretTypes) | quote }}
{{- if .Values.requireNamespaceOptIn }}
- --require-namespace-opt-in
{{- end }}
{{- if .Values.permissive }}
- --permissive
{{- end }}
{{- if .Values.leaderElection.enabled }}
{{- /* The Lease is in the operator's own namespace (the flag's default in a Pod). */}}
- --leader-elect
- --leader-election-id={{ include "kube-replicator.fullname" . }}
{{- with .Values.leaderElection.leaseDuration }}
- --leader-election-lease-duration={{ . }}
{{- end }}
{{- with .Values.leaderElection.renewDeadline }}
- --leader-election-renew-deadline={{ . }}
{{- end }}
{{- with .Values.leaderElection.retryPeriod }}
- --leader-election-retry-period={{ . }}
{{- end }}
{{- end }}
{{- range .Values.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end }}

{{/*
Non-empty when the CRD named by the second argument is already served and belongs to no release of this name and
namespace: applied with `kubectl apply -k crds/`, by `npm run dev`, or by chart 0.1.0's crds/ folder. Taking it
over would fail the whole install, so the chart leaves it alone and NOTES.txt says so (`helm upgrade
--take-ownership` hands it to the release). `helm template` sees no cluster and always renders it.
*/}}
{{- define "kube-replicator.crdOwnedElsewhere" -}}
{{- $root := index . 0 }}
{{- $live := lookup "apiextensions.k8s.io/v1" "CustomResourceDefinition" "" (index . 1) }}
{{- if $live }}
{{- $a := dig "metadata" "annotations" (dict) $live }}
{{- if not (and (eq (get $a "meta.helm.sh/release-name") $root.Release.Name) (eq (get $a "meta.helm.sh/release-namespace") $root.Release.Namespace)) }}true{{ end }}
{{- end }}
{{- end }}

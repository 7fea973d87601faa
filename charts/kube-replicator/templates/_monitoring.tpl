{{/* The metrics Service: a Service name is a DNS label (63 characters), so a long fullname is cut to leave room for "-metrics". */}}
{{- define "kube-replicator.metricsServiceName" -}}
{{- printf "%s-metrics" (include "kube-replicator.fullname" . | trunc 55 | trimSuffix "-") }}
{{- end }}

{{/*
The PromQL label matchers that pick this release's series in the alerts: by default the labels a ServiceMonitor
gives them (namespace, and job = the metrics Service's name).
*/}}
{{- define "kube-replicator.alertSelector" -}}
{{- .Values.metrics.prometheusRule.selector | default (printf "namespace=%q, job=%q" .Release.Namespace (include "kube-replicator.metricsServiceName" .)) }}
{{- end }}

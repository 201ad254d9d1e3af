{{/* The prefix of every object's name. */}}
{{- define "verdict.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object: config/default's, and Helm's. */}}
{{- define "verdict.labels" -}}
app.kubernetes.io/name: {{ default .Chart.Name .Values.nameOverride }}
app.kubernetes.io/part-of: verdict
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The pods' selector. */}}
{{- define "verdict.selector" -}}
app.kubernetes.io/component: webhook
{{- end -}}

{{- define "verdict.policiesConfigMap" -}}
{{- default (printf "%s-policies" (include "verdict.fullname" .)) .Values.policies.existingConfigMap -}}
{{- end -}}

{{/* What the validating and the mutating webhook share. */}}
{{- define "verdict.webhookCommon" -}}
failurePolicy: {{ .Values.webhook.failurePolicy }}
matchPolicy: Equivalent
sideEffects: None
timeoutSeconds: {{ .Values.webhook.timeoutSeconds }}
namespaceSelector:
  matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values:
    {{- range .Values.webhook.excludedNamespaces }}
    - {{ . }}
    {{- end }}
    {{- if not (has .Release.Namespace .Values.webhook.excludedNamespaces) }}
    - {{ .Release.Namespace }}
    {{- end }}
{{- with .Values.webhook.matchConditions }}
matchConditions:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

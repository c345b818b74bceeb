{{/* portalbot.name is the chart name, or nameOverride. */}}
{{- define "portalbot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
portalbot.fullname names every resource: fullnameOverride, else the release name when it
already contains the chart name, else "<release>-<chart>"; 63 characters at most (DNS label).
*/}}
{{- define "portalbot.fullname" -}}
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

{{/* portalbot.selectorLabels select the pods; they never change after install. */}}
{{- define "portalbot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portalbot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* portalbot.labels go on every resource. */}}
{{- define "portalbot.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "portalbot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* portalbot.image is repository@digest when a digest is set, else repository:tag. */}}
{{- define "portalbot.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag }}
{{- end }}
{{- end }}

{{/*
portalbot.validate fails the render on combinations values.schema.json cannot express.
*/}}
{{- define "portalbot.validate" -}}
{{- if and .Values.sqlite.enabled (ne (int .Values.replicaCount) 1) }}
{{- fail (printf "sqlite.enabled: SQLite has a single writer and works with one replica only; set replicaCount: 1 (got %d) or use PostgreSQL (PORTALBOT_DB in existingSecret)" (int .Values.replicaCount)) }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (gt (int .Values.replicaCount) 1) (ge (int .Values.podDisruptionBudget.minAvailable) (int .Values.replicaCount)) }}
{{- fail (printf "podDisruptionBudget.minAvailable (%d) must be below replicaCount (%d), or no node could ever be drained" (int .Values.podDisruptionBudget.minAvailable) (int .Values.replicaCount)) }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.host) }}
{{- fail "ingress.host: required when ingress.enabled (the public host Slack and Discord call)" }}
{{- end }}
{{- end }}

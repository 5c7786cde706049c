{{/* Names, labels and the pieces every Yishi pod shares (image, secret references, security). */}}

{{- define "yishi.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "yishi.fullname" -}}
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

{{- define "yishi.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "yishi.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The API pods' selector also names the component, so the Service and PDB never pick the migration or
worker pods (the workers have a selector of their own). */}}
{{- define "yishi.selectorLabels" -}}
app.kubernetes.io/name: {{ include "yishi.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "yishi.apiSelectorLabels" -}}
{{ include "yishi.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end }}

{{- define "yishi.workerSelectorLabels" -}}
{{ include "yishi.selectorLabels" . }}
app.kubernetes.io/component: worker
{{- end }}

{{- define "yishi.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret the pods read: the operator's own, or the one this chart makes. */}}
{{- define "yishi.secretName" -}}
{{- default (include "yishi.fullname" .) .Values.database.existingSecret }}
{{- end }}

{{/* The key holding one value ("secretKey", "url" or "migrationsUrl") in that Secret. */}}
{{- define "yishi.secretKeyName" -}}
{{- $ctx := index . 0 }}{{ $which := index . 1 }}
{{- if $ctx.Values.database.existingSecret }}
{{- index $ctx.Values.database.existingSecretKeys $which }}
{{- else }}
{{- index (dict "secretKey" "YISHI_SECRET_KEY" "url" "YISHI_DATABASE_URL" "migrationsUrl" "YISHI_MIGRATIONS_DATABASE_URL") $which }}
{{- end }}
{{- end }}

{{/* The values the API pods need, when the chart makes the Secret. */}}
{{- define "yishi.appSecretData" -}}
YISHI_SECRET_KEY: {{ required "secretKey is required (or set database.existingSecret)" .Values.secretKey | b64enc | quote }}
YISHI_DATABASE_URL: {{ required "database.url is required (or set database.existingSecret)" .Values.database.url | b64enc | quote }}
{{- end }}

{{/* One env entry read from the Secret: (list context "ENV_NAME" "which" "secret-name"). */}}
{{- define "yishi.secretEnv" -}}
- name: {{ index . 1 }}
  valueFrom:
    secretKeyRef:
      name: {{ index . 3 }}
      key: {{ include "yishi.secretKeyName" (list (index . 0) (index . 2)) }}
{{- end }}

{{/* The Secret holding the photo bucket's credentials: the operator's own, or the one this chart makes. */}}
{{- define "yishi.mediaSecretName" -}}
{{- default (printf "%s-object-storage" (include "yishi.fullname" .)) .Values.objectStorage.existingSecret }}
{{- end }}

{{/* The API pods' photo-bucket credentials, under the standard AWS names the app reads (objectStorage on). */}}
{{- define "yishi.mediaEnv" -}}
{{- $keys := .Values.objectStorage.existingSecretKeys }}
{{- $own := not .Values.objectStorage.existingSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ include "yishi.mediaSecretName" . }}
      key: {{ ternary "AWS_ACCESS_KEY_ID" $keys.accessKeyId $own }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "yishi.mediaSecretName" . }}
      key: {{ ternary "AWS_SECRET_ACCESS_KEY" $keys.secretAccessKey $own }}
{{- end }}

{{- define "yishi.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
fsGroup: {{ .Values.podSecurity.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "yishi.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end }}

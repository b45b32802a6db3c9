{{/*
Chart name, truncated to the 63 characters Kubernetes allows in a label value.
*/}}
{{- define "ferry.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: prefix of the chart's own resources (ServiceAccount, Role, MinIO).
*/}}
{{- define "ferry.fullname" -}}
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

{{/*
Chart label value: name-version.
*/}}
{{- define "ferry.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Namespace of every resource.
*/}}
{{- define "ferry.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels of a component (pass a dict: root, component).
*/}}
{{- define "ferry.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ferry.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{/*
Standard labels of a component (pass a dict: root, component).
*/}}
{{- define "ferry.labels" -}}
helm.sh/chart: {{ include "ferry.chart" .root }}
{{ include "ferry.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: ferry
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Name of the ServiceAccount the workflow pods run as: ferry-workflow by default, the
name the plain rendered manifests use (`argo submit workflow.yaml` finds it too).
*/}}
{{- define "ferry.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default "ferry-workflow" .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The step image reference.
*/}}
{{- define "ferry.image" -}}
{{- $repository := required "image.repository is required: the step image built from images/step/Dockerfile and pushed to your registry (e.g. --set image.repository=registry.example.com/data/ferry-step); no default image is published" .Values.image.repository }}
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
Name of the in-cluster MinIO resources.
*/}}
{{- define "ferry.minio.fullname" -}}
{{- printf "%s-minio" (include "ferry.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
S3 endpoint URL of the steps: s3.endpoint, else the in-cluster MinIO when enabled, else "" (AWS S3).
*/}}
{{- define "ferry.s3.endpoint" -}}
{{- if .Values.s3.endpoint }}
{{- .Values.s3.endpoint }}
{{- else if .Values.minio.enabled }}
{{- printf "http://%s.%s.svc:9000" (include "ferry.minio.fullname" .) (include "ferry.namespace" .) }}
{{- end }}
{{- end }}

{{/*
The store URI the workflows default to: s3://BUCKET[/PREFIX].
*/}}
{{- define "ferry.store" -}}
{{- $prefix := trimAll "/" .Values.s3.prefix }}
{{- if $prefix }}
{{- printf "s3://%s/%s" .Values.s3.bucket $prefix }}
{{- else }}
{{- printf "s3://%s" .Values.s3.bucket }}
{{- end }}
{{- end }}

{{/*
Whether the chart creates the ferry-s3 Secret: keys given in values, or MinIO's root credentials.
*/}}
{{- define "ferry.s3.createSecret" -}}
{{- if and (not .Values.s3.existingSecret) (or .Values.s3.accessKeyId .Values.minio.enabled) }}true{{- end }}
{{- end }}

{{/*
Name of the Secret with keys access-key-id/secret-access-key ("" when none: ambient credentials such as IRSA).
*/}}
{{- define "ferry.s3.secretName" -}}
{{- if .Values.s3.existingSecret }}
{{- .Values.s3.existingSecret }}
{{- else if include "ferry.s3.createSecret" . }}
{{- "ferry-s3" }}
{{- end }}
{{- end }}

{{/*
The rendered manifest of one pipeline file, parsed; fails with the fix when the pipeline is not in the chart.
Pass a dict: root, pipeline, file, required.
*/}}
{{- define "ferry.pipelineFile" -}}
{{- $path := printf "files/pipelines/%s/%s" .pipeline .file }}
{{- $raw := .root.Files.Get $path }}
{{- if and .required (not $raw) }}
{{- fail (printf "pipelines: %q has no %s in the chart; add it with `make chart-sync` (rendered pipelines: %s) or remove it from pipelines" .pipeline $path (include "ferry.availablePipelines" .root)) }}
{{- end }}
{{- if $raw }}
{{- $raw }}
{{- end }}
{{- end }}

{{/*
Comma-separated names of the pipelines whose manifests are in the chart.
*/}}
{{- define "ferry.availablePipelines" -}}
{{- $names := list }}
{{- range $path, $_ := .Files.Glob "files/pipelines/*/workflowtemplate.yaml" }}
{{- $names = append $names (base (dir $path)) }}
{{- end }}
{{- if $names }}{{ join ", " $names }}{{ else }}none{{ end }}
{{- end }}

{{/*
Fail on pipelineOverrides keys that name no pipeline (a typo would silently do nothing).
Overrides of a pipeline the chart carries but this environment does not select are
allowed: values.yaml sets parameters for every shipped pipeline.
*/}}
{{- define "ferry.checkOverrides" -}}
{{- $available := splitList ", " (include "ferry.availablePipelines" .) }}
{{- range $name, $_ := .Values.pipelineOverrides }}
{{- if not (or (has $name $.Values.pipelines) (has $name $available)) }}
{{- fail (printf "pipelineOverrides.%s: %q is not in pipelines (%s); fix the name or add the pipeline" $name $name (join ", " $.Values.pipelines)) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Name of the ServiceAccount, Role and token Secret of event senders (MinIO's webhook).
*/}}
{{- define "ferry.eventSenderName" -}}
{{- default (printf "%s-events" (include "ferry.fullname" .)) .Values.events.sender.name | trunc 57 | trimSuffix "-" }}
{{- end }}

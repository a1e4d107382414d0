{{/* Names and labels. */}}
{{- define "airlock.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "airlock.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The name of one component's resources: <fullname>-<component>. Args: root, component. */}}
{{- define "airlock.componentName" -}}
{{- printf "%s-%s" (include "airlock.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "airlock.selectorLabels" -}}
app.kubernetes.io/name: {{ include "airlock.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "airlock.labels" -}}
{{ include "airlock.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: airlock
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* <registry>/<repository>:<tag>. Args: root, image (the component's image block). */}}
{{- define "airlock.image" -}}
{{- $tag := .image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- if .root.Values.image.registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" .root.Values.image.registry) .image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
A Secret reference that must be given: fails rendering with a message that names the value.
Args: ref ({secretName, key}), path (where it sits in the values), what (what it holds).
*/}}
{{- define "airlock.requireSecret" -}}
{{- if not (and .ref (kindIs "map" .ref)) -}}
{{- fail (printf "%s: a Secret reference {secretName, key} is required (%s)" .path .what) -}}
{{- end -}}
{{- if not .ref.secretName -}}
{{- fail (printf "%s.secretName is required: the name of an existing Secret holding %s (see docs/kubernetes.md)" .path .what) -}}
{{- end -}}
{{- if not .ref.key -}}
{{- fail (printf "%s.key is required: the key of %s in Secret %s" .path .what .ref.secretName) -}}
{{- end -}}
{{- end -}}

{{/* A setting's value as an environment string: JSON for lists and maps, integers without exponent. */}}
{{- define "airlock.envValue" -}}
{{- if or (kindIs "map" .) (kindIs "slice" .) -}}
{{- toJson . -}}
{{- else if kindIs "float64" . -}}
{{- if eq (float64 (int64 .)) . -}}{{- int64 . -}}{{- else -}}{{- . -}}{{- end -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/* Where secret files are mounted in every pod. */}}
{{- define "airlock.secretDir" -}}/run/secrets/airlock{{- end -}}

{{/* The ports of a NetworkPolicy rule (TCP). Args: list of port numbers. */}}
{{- define "airlock.tcpPorts" -}}
{{- range $i, $port := . }}
{{- if $i }}{{ "\n" }}{{ end -}}
- protocol: TCP
  port: {{ int $port }}
{{- end -}}
{{- end -}}

{{/* Which components the chart renders, by values key, with their resource names. */}}
{{- define "airlock.services" -}}
ingressProxy: ingress-proxy
policy: policy
approval: approval
recorder: recorder
credentialVault: credential-vault
{{- end -}}

{{/* The console's origin (scheme://host[:port]) when it is deployed with a public URL; else empty. */}}
{{- define "airlock.consoleOrigin" -}}
{{- if and .Values.console.enabled .Values.console.publicUrl -}}
{{- $u := urlParse .Values.console.publicUrl -}}
{{- printf "%s://%s" $u.scheme $u.host -}}
{{- end -}}
{{- end -}}

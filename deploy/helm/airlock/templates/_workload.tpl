{{/*
One component: ServiceAccount, Deployment and Service. Args (dict):
  root       the chart's root context
  component  resource name suffix (ingress-proxy, policy, ...)
  v          the component's values
  kafka      true when the service logs in to Kafka as its own principal
  identity   true when the service verifies tokens (OIDC_* settings)
  files      list of {env, ref, path, what, at}: a Secret key mounted as a file, its path in env
             (no env: mounted only)
  secretEnv  list of {env, ref, what, at}: a Secret key as an environment variable
  env        list of EnvVar objects (may refer to the secretEnv above with $(NAME))
  configMaps list of {volume, name, mountPath}: ConfigMaps mounted read-only
  ports      extra container/service ports: list of {name, containerPort, servicePort}
  metrics    serve /metrics (scrape annotations)
  console    the console's static server (CONSOLE_HOST/CONSOLE_PORT; no service settings)
  checksum   changes when the mounted configuration changes (rolls the pods)
*/}}
{{- define "airlock.workload" -}}
{{- $root := .root -}}
{{- $v := .v -}}
{{- $ctx := dict "root" $root "component" .component -}}
{{- $name := include "airlock.componentName" $ctx -}}
{{- $secretDir := include "airlock.secretDir" . -}}
{{- $files := .files | default list -}}
{{- if and .kafka $v.kafka -}}
{{- $files = prepend $files (dict "env" "KAFKA_SASL_PASSWORD_FILE" "ref" $v.kafka.password "path" "kafka-password" "what" "its Kafka SASL/SCRAM password" "at" (printf "%s.kafka.password" .key)) -}}
{{- if $root.Values.kafka.tls.ca.secretName -}}
{{- $files = append $files (dict "env" "KAFKA_TLS_CA_FILE" "ref" $root.Values.kafka.tls.ca "path" "kafka-ca.crt" "what" "the Kafka brokers' CA" "at" "kafka.tls.ca") -}}
{{- end -}}
{{- end -}}
{{- range $files }}
{{- include "airlock.requireSecret" (dict "ref" .ref "path" .at "what" .what) -}}
{{- end }}
{{- range .secretEnv }}
{{- include "airlock.requireSecret" (dict "ref" .ref "path" .at "what" .what) -}}
{{- end }}
{{- $probes := mergeOverwrite (deepCopy $root.Values.probes) (deepCopy ($v.probes | default dict)) -}}
{{- if $root.Values.serviceAccount.create }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  labels:
    {{- include "airlock.labels" $ctx | nindent 4 }}
  {{- with $root.Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: {{ $root.Values.serviceAccount.automountServiceAccountToken }}
{{- end }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "airlock.labels" $ctx | nindent 4 }}
spec:
  {{- if not (and $v.autoscaling $v.autoscaling.enabled) }}
  replicas: {{ $v.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "airlock.selectorLabels" $ctx | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "airlock.labels" $ctx | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        {{- if .checksum }}
        checksum/config: {{ .checksum }}
        {{- end }}
        {{- if and .metrics $root.Values.metrics.podAnnotations }}
        prometheus.io/scrape: 'true'
        prometheus.io/port: {{ $v.httpPort | quote }}
        prometheus.io/path: {{ $root.Values.metrics.path | quote }}
        {{- end }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- if $root.Values.serviceAccount.create }}
      serviceAccountName: {{ $name }}
      {{- end }}
      automountServiceAccountToken: {{ $root.Values.serviceAccount.automountServiceAccountToken }}
      enableServiceLinks: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      {{- with $v.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.topologySpreadConstraints }}
      {{- $constraints := list }}
      {{- range . }}
      {{- $c := deepCopy . }}
      {{- if not $c.labelSelector }}
      {{- $_ := set $c "labelSelector" (dict "matchLabels" (include "airlock.selectorLabels" $ctx | fromYaml)) }}
      {{- end }}
      {{- $constraints = append $constraints $c }}
      {{- end }}
      topologySpreadConstraints:
        {{- toYaml $constraints | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "airlock.image" (dict "root" $root "image" $v.image) }}
          imagePullPolicy: {{ $v.image.pullPolicy | default $root.Values.image.pullPolicy }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          ports:
            - name: http
              containerPort: {{ $v.httpPort }}
              protocol: TCP
            {{- range .ports }}
            - name: {{ .name }}
              containerPort: {{ .containerPort }}
              protocol: TCP
            {{- end }}
          env:
            {{- if .console }}
            - name: CONSOLE_HOST
              value: 0.0.0.0
            - name: CONSOLE_PORT
              value: {{ $v.httpPort | quote }}
            {{- else }}
            - name: HTTP_HOST
              value: 0.0.0.0
            - name: HTTP_PORT
              value: {{ $v.httpPort | quote }}
            - name: LOG_LEVEL
              value: {{ $root.Values.logLevel | quote }}
            - name: INSTANCE_ID
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            {{- with include "airlock.consoleOrigin" $root }}
            - name: CONSOLE_ORIGINS
              value: {{ . | quote }}
            {{- end }}
            {{- end }}
            {{- if and .kafka $root.Values.tracing.otlpEndpoint }}
            - name: OTEL_EXPORTER_OTLP_ENDPOINT
              value: {{ $root.Values.tracing.otlpEndpoint | quote }}
            {{- end }}
            {{- if .kafka }}
            - name: KAFKA_BROKERS
              value: {{ join "," $root.Values.kafka.brokers | quote }}
            - name: KAFKA_SASL_MECHANISM
              value: {{ $root.Values.kafka.saslMechanism | quote }}
            - name: KAFKA_TLS
              value: {{ $root.Values.kafka.tls.enabled | toString | quote }}
            - name: KAFKA_GROUP_PREFIX
              value: {{ $root.Values.kafka.groupPrefix | quote }}
            - name: KAFKA_SASL_USERNAME
              value: {{ $v.kafka.username | quote }}
            {{- end }}
            {{- if .identity }}
            {{- $id := $root.Values.identity }}
            {{- if $id.existingSecret }}
            - name: OIDC_ISSUERS
              valueFrom:
                secretKeyRef:
                  name: {{ $id.existingSecret }}
                  key: {{ $id.existingSecretKeys.issuers }}
            - name: OIDC_AUDIENCE
              valueFrom:
                secretKeyRef:
                  name: {{ $id.existingSecret }}
                  key: {{ $id.existingSecretKeys.audience }}
            {{- else }}
            {{- if not $id.issuers }}
            {{- fail "identity.issuers: trust at least one issuer (or set identity.existingSecret)" }}
            {{- end }}
            {{- if not $id.audience }}
            {{- fail "identity.audience: accept at least one audience (or set identity.existingSecret)" }}
            {{- end }}
            - name: OIDC_ISSUERS
              value: {{ $id.issuers | toJson | quote }}
            - name: OIDC_AUDIENCE
              value: {{ join "," $id.audience | quote }}
            {{- end }}
            {{- with $id.algorithms }}
            - name: OIDC_ALGORITHMS
              value: {{ join "," . | quote }}
            {{- end }}
            - name: OIDC_CLOCK_SKEW_SECONDS
              value: {{ $id.clockSkewSeconds | quote }}
            - name: ALLOW_INSECURE_JWKS
              value: {{ $id.allowInsecureJwks | toString | quote }}
            {{- end }}
            {{- range $files }}
            {{- if .env }}
            - name: {{ .env }}
              value: {{ printf "%s/%s" $secretDir .path | quote }}
            {{- end }}
            {{- end }}
            {{- range .secretEnv }}
            - name: {{ .env }}
              valueFrom:
                secretKeyRef:
                  name: {{ .ref.secretName }}
                  key: {{ .ref.key }}
            {{- end }}
            {{- with .env }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            {{- range $k, $val := $v.settings }}
            {{- if not (kindIs "invalid" $val) }}
            - name: {{ $k }}
              value: {{ include "airlock.envValue" $val | quote }}
            {{- end }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          startupProbe:
            httpGet:
              path: {{ $probes.startup.path }}
              port: http
            periodSeconds: {{ $probes.startup.periodSeconds }}
            timeoutSeconds: {{ $probes.startup.timeoutSeconds }}
            failureThreshold: {{ $probes.startup.failureThreshold }}
          livenessProbe:
            httpGet:
              path: {{ $probes.liveness.path }}
              port: http
            periodSeconds: {{ $probes.liveness.periodSeconds }}
            timeoutSeconds: {{ $probes.liveness.timeoutSeconds }}
            failureThreshold: {{ $probes.liveness.failureThreshold }}
          readinessProbe:
            httpGet:
              path: {{ $probes.readiness.path }}
              port: http
            periodSeconds: {{ $probes.readiness.periodSeconds }}
            timeoutSeconds: {{ $probes.readiness.timeoutSeconds }}
            failureThreshold: {{ $probes.readiness.failureThreshold }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if $files }}
            - name: secrets
              mountPath: {{ $secretDir }}
              readOnly: true
            {{- end }}
            {{- range .configMaps }}
            - name: {{ .volume }}
              mountPath: {{ .mountPath }}
              readOnly: true
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ $root.Values.tmpSizeLimit }}
        {{- if $files }}
        - name: secrets
          projected:
            # 0440: owner and group (fsGroup) read; nothing for others. Decimal, so every YAML parser agrees.
            defaultMode: 288
            sources:
              {{- range $files }}
              - secret:
                  name: {{ .ref.secretName }}
                  items:
                    - key: {{ .ref.key }}
                      path: {{ .path }}
              {{- end }}
        {{- end }}
        {{- range .configMaps }}
        - name: {{ .volume }}
          configMap:
            name: {{ .name }}
        {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "airlock.labels" $ctx | nindent 4 }}
  {{- with $v.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $v.service.type }}
  selector:
    {{- include "airlock.selectorLabels" $ctx | nindent 4 }}
  ports:
    - name: http
      port: {{ $v.service.port }}
      targetPort: http
      protocol: TCP
    {{- range .ports }}
    - name: {{ .name }}
      port: {{ .servicePort }}
      targetPort: {{ .name }}
      protocol: TCP
    {{- end }}
{{- end -}}

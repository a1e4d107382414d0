{{/*
DATABASE_URL-style settings of one service. Either the whole URL from a Secret (urlSecret), or
built from the values' address and a password Secret: the password comes in as its own variable
and Kubernetes substitutes $(NAME) in the URL. Args: root, db ({user, name, password, urlSecret}),
env (the URL's variable), passwordEnv, at (values path). Appends to .out.secretEnv and .out.env.
*/}}
{{- define "airlock.databaseUrl" -}}
{{- $pg := .root.Values.postgresql -}}
{{- if and .db.urlSecret .db.urlSecret.secretName -}}
{{- $_ := set .out "secretEnv" (append .out.secretEnv (dict "env" .env "ref" .db.urlSecret "what" (printf "the %s" .env) "at" (printf "%s.urlSecret" .at))) -}}
{{- else -}}
{{- if not .db.user -}}{{- fail (printf "%s.user is required (or %s.urlSecret)" .at .at) -}}{{- end -}}
{{- $_ := set .out "secretEnv" (append .out.secretEnv (dict "env" .passwordEnv "ref" .db.password "what" (printf "the password of database role %s" .db.user) "at" (printf "%s.password" .at))) -}}
{{- $params := list -}}
{{- if $pg.sslmode -}}{{- $params = append $params (printf "sslmode=%s" $pg.sslmode) -}}{{- end -}}
{{- if $pg.ca.secretName -}}{{- $params = append $params (printf "sslrootcert=%s/postgresql-ca.crt" (include "airlock.secretDir" .)) -}}{{- end -}}
{{- $url := printf "postgres://%s:$(%s)@%s:%v/%s" .db.user .passwordEnv (required "postgresql.host is required" $pg.host) (int $pg.port) (required (printf "%s.name is required" .dbAt) .dbName) -}}
{{- if $params -}}{{- $url = printf "%s?%s" $url (join "&" $params) -}}{{- end -}}
{{- $_ := set .out "env" (append .out.env (dict "name" .env "value" $url)) -}}
{{- end -}}
{{- end -}}

{{/* The PostgreSQL CA as a mounted file, when configured. Args: root, out. */}}
{{- define "airlock.postgresCa" -}}
{{- if .root.Values.postgresql.ca.secretName -}}
{{- $_ := set .out "files" (append .out.files (dict "env" "" "ref" .root.Values.postgresql.ca "path" "postgresql-ca.crt" "what" "the PostgreSQL server's CA" "at" "postgresql.ca")) -}}
{{- end -}}
{{- end -}}

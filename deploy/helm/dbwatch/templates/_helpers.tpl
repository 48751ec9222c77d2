{{- define "dbwatch.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "dbwatch.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: dbwatch
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "dbwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "dbwatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "dbwatch.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{/* ALERTMANAGER_LABELS from a map: name=value pairs, comma-separated, in name order. */}}
{{- define "dbwatch.alertmanagerLabels" -}}
{{- $pairs := list -}}
{{- range $name, $value := . }}{{ $pairs = append $pairs (printf "%s=%s" $name $value) }}{{ end -}}
{{- join "," $pairs -}}
{{- end -}}
{{- /* Replicas: the value, else 3 sharded, 2 with leader election, 1 with neither; several with neither is refused. */ -}}
{{- define "dbwatch.replicas" -}}
{{- $shard := .Values.sharding.enabled -}}
{{- $elect := and .Values.leaderElection.enabled (not $shard) -}}
{{- if kindIs "invalid" .Values.replicaCount -}}
{{- if $shard }}3{{ else }}{{ ternary 2 1 $elect }}{{ end -}}
{{- else if and (not $elect) (not $shard) (gt (int .Values.replicaCount) 1) -}}
{{- fail (printf "replicaCount=%d with leaderElection.enabled=false would run %d operators that all check and write status: set replicaCount=1, or keep leader election on" (int .Values.replicaCount) (int .Values.replicaCount)) -}}
{{- else -}}
{{- int .Values.replicaCount -}}
{{- end -}}
{{- end -}}

{{/* DISCOVERY_SOURCES: the operator's names of the enabled discovery sources, comma-separated. */}}
{{- define "dbwatch.discoverySources" -}}
{{- $names := dict "cloudNativePG" "cloudnativepg" "crunchy" "crunchy" "zalando" "zalando" "secrets" "secrets" -}}
{{- $on := list -}}
{{- range $key := list "cloudNativePG" "crunchy" "zalando" "secrets" -}}
{{- if index $.Values.discovery.sources $key -}}{{- $on = append $on (index $names $key) -}}{{- end -}}
{{- end -}}
{{- join "," $on -}}
{{- end }}

#!/usr/bin/env bash
# One-shot: registers the compose Kafka cluster in kafka-manager (CMAK) through its HTTP
# form API, so http://localhost:9000 shows it without clicking "Add Cluster". CMAK keeps
# its clusters in ZooKeeper: an already registered cluster is left alone.
#
#   KAFKA_MANAGER_URL (default http://kafka-manager:9000)
#   CLUSTER_NAME (default cassink)   ZK_HOSTS (default zookeeper:2181)
#   KAFKA_VERSION: the newest CMAK 3.0.0.5 offers (default 2.4.0; it reads newer brokers fine)
set -euo pipefail
km="${KAFKA_MANAGER_URL:-http://kafka-manager:9000}"
cluster="${CLUSTER_NAME:-cassink}"
zk="${ZK_HOSTS:-zookeeper:2181}"
version="${KAFKA_VERSION:-2.4.0}"

log() { printf 'kafka-manager-init: %s\n' "$*" >&2; }

# The cluster list page answers once the Play application is up (older CMAK releases have
# no /api/health).
for attempt in $(seq 1 90); do
  curl -fsS -o /dev/null "$km/" 2>/dev/null && break
  [ "$attempt" -eq 90 ] && { log "$km is not up after 180s"; exit 1; }
  sleep 2
done

# /api/status/<cluster>/brokers answers 200 once the cluster is known and its manager runs.
registered() { curl -fsS -o /dev/null "$km/api/status/$cluster/brokers"; }

if registered 2>/dev/null; then
  log "cluster $cluster already registered"
  exit 0
fi

curl -fsS -o /dev/null -X POST "$km/clusters" \
  --data-urlencode "name=$cluster" \
  --data-urlencode "zkHosts=$zk" \
  --data-urlencode "kafkaVersion=$version" \
  -d jmxEnabled=false \
  -d pollConsumers=true \
  -d filterConsumers=false \
  -d activeOffsetCacheEnabled=true \
  -d displaySizeEnabled=false \
  -d securityProtocol=PLAINTEXT \
  -d tuning.brokerViewUpdatePeriodSeconds=30 \
  -d tuning.clusterManagerThreadPoolSize=2 \
  -d tuning.clusterManagerThreadPoolQueueSize=100 \
  -d tuning.kafkaCommandThreadPoolSize=2 \
  -d tuning.kafkaCommandThreadPoolQueueSize=100 \
  -d tuning.logkafkaCommandThreadPoolSize=2 \
  -d tuning.logkafkaCommandThreadPoolQueueSize=100 \
  -d tuning.logkafkaUpdatePeriodSeconds=30 \
  -d tuning.partitionOffsetCacheTimeoutSecs=5 \
  -d tuning.brokerViewThreadPoolSize=2 \
  -d tuning.brokerViewThreadPoolQueueSize=1000 \
  -d tuning.offsetCacheThreadPoolSize=2 \
  -d tuning.offsetCacheThreadPoolQueueSize=1000 \
  -d tuning.kafkaAdminClientThreadPoolSize=2 \
  -d tuning.kafkaAdminClientThreadPoolQueueSize=1000 \
  -d tuning.kafkaManagedOffsetMetadataCheckMillis=30000 \
  -d tuning.kafkaManagedOffsetGroupCacheSize=1000000 \
  -d tuning.kafkaManagedOffsetGroupExpireDays=7

# CMAK answers the form with 200 even when it refused it: wait for the cluster to show up.
for attempt in $(seq 1 30); do
  if registered 2>/dev/null; then
    log "cluster $cluster registered ($zk): $km/clusters/$cluster"
    exit 0
  fi
  sleep 2
done
log "cluster $cluster did not appear in $km after registering it; add it by hand (Cluster > Add Cluster, zookeeper $zk)"
exit 1

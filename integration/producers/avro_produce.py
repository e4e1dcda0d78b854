#!/usr/bin/env python3
"""Produce JSON lines from stdin as Confluent Avro with the real confluent-kafka serializer.

Each input line is {"key": "...", "value": {...}}; values must already fit the schema
(timestamps as epoch milliseconds, uuids as text). The schema is registered under the topic's
value subject (TopicNameStrategy), as a Confluent producer does. Prints the number of records
the broker acknowledged.

  avro_produce.py --bootstrap 127.0.0.1:9092 --registry http://127.0.0.1:8081 \
      --topic weather --schema connectors/weather.avsc [--header-ids] < records.jsonl

--header-ids puts the schema GUID in a __value_schema_id header instead of the payload prefix
(schema.id.serializer=header_schema_id_serializer; needs a registry that returns GUIDs).
"""
import argparse
import json
import sys

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient, header_schema_id_serializer
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--schema", required=True, help="path of the .avsc file")
    parser.add_argument("--header-ids", action="store_true")
    args = parser.parse_args()

    with open(args.schema, encoding="utf-8") as f:
        schema = f.read()
    conf = {"auto.register.schemas": True}
    if args.header_ids:
        conf["schema.id.serializer"] = header_schema_id_serializer
    serializer = AvroSerializer(SchemaRegistryClient({"url": args.registry}), schema, conf=conf)
    producer = Producer({"bootstrap.servers": args.bootstrap, "linger.ms": 20})

    failures = []
    acked = 0

    def delivered(err, _msg):
        nonlocal acked
        if err is not None:
            failures.append(str(err))
        else:
            acked += 1

    for line in sys.stdin:
        if not line.strip():
            continue
        record = json.loads(line)
        headers = []
        ctx = SerializationContext(args.topic, MessageField.VALUE, headers)
        payload = serializer(record["value"], ctx)
        while True:
            try:
                producer.produce(args.topic, key=record.get("key"), value=payload,
                                 headers=headers or None, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    producer.flush(30)
    if failures:
        print(f"{len(failures)} records failed, first: {failures[0]}", file=sys.stderr)
        return 1
    print(acked)
    return 0


if __name__ == "__main__":
    sys.exit(main())

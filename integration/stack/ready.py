"""Is a stack component really serving? One attempt, exit 0 when it answers.

    ready.py kafka HOST:PORT         a metadata request answered by a broker
    ready.py cassandra HOST PORT     SELECT release_version FROM system.local answered over CQL

Used by integration/stack.sh, which retries until its deadline. Credentials for a Cassandra
with PasswordAuthenticator come from CASSANDRA_USERNAME / CASSANDRA_PASSWORD; one that
only speaks TLS is reached with CASSANDRA_SSL_CA (and CASSANDRA_SSL_CERT / CASSANDRA_SSL_KEY
when it wants a client certificate).
"""
import os
import sys


def kafka(bootstrap: str) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 2000})
    metadata = admin.list_topics(timeout=3)
    if not metadata.brokers:
        raise RuntimeError("no broker in the metadata")


def cassandra(host: str, port: str) -> None:
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster

    auth = None
    if os.environ.get("CASSANDRA_USERNAME"):
        auth = PlainTextAuthProvider(os.environ["CASSANDRA_USERNAME"], os.environ.get("CASSANDRA_PASSWORD", ""))
    ssl_context = None
    if os.environ.get("CASSANDRA_SSL_CA"):
        import ssl

        ssl_context = ssl.create_default_context(cafile=os.environ["CASSANDRA_SSL_CA"])
        if os.environ.get("CASSANDRA_SSL_CERT"):
            ssl_context.load_cert_chain(os.environ["CASSANDRA_SSL_CERT"], os.environ.get("CASSANDRA_SSL_KEY"))
    cluster = Cluster([host], port=int(port), auth_provider=auth, ssl_context=ssl_context,
                      connect_timeout=3, control_connection_timeout=3)
    try:
        row = cluster.connect().execute("SELECT release_version FROM system.local", timeout=3).one()
        print(row.release_version)
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    component, *args = sys.argv[1:]
    {"kafka": kafka, "cassandra": cassandra}[component](*args)

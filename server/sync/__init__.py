"""The CouchDB replication protocol at `/sync/`, per user."""

"""Who is asking: API keys, staff JWTs, the door in front of /graphql."""

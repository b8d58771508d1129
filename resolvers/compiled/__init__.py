"""Known GraphQL documents run through plans compiled once (plan.py, executor.py), with
the same answers strawberry gives (operations.py)."""

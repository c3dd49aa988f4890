"""Who sent a message: signed envelopes from calling services, signed headers from the system itself.

Any process that reaches the broker can publish any task, so the worker decides who a message
comes from, not the sender: a public task (feedback, predictions) runs only for a service whose
credential signed the call, and only for tenants that service is a member of; an internal task
(scrubbing, training, rollback...) runs only for messages the system itself signed. docs/security.md
says what this stops and what it does not.
"""

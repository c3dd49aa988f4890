"""A simulated accounting platform that drives the whole system, for the main job (`modelops demo`).

Its tenants ask every agent for predictions and answer them as users would (approvals, corrections,
ratings) through the same public tasks other services call; what happens to their data day by day
is scripted (`platform.py`) so that one run shows retraining, an A/B test won, a candidate refused
and a rollback, on a clock that runs a day in seconds.
"""

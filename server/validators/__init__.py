"""The validators: derive scores, ledgers, hazards, alarms and rankings from the events, as pure functions."""

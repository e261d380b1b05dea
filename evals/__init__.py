"""The regression suite (golden questions, metrics, baselines); built in a later issue."""

"""What every stage and command shares: configs, artifact files, one-line errors, the pinned arithmetic.

Every DVC stage depends on this folder as a whole (dvc.yaml), so a change here re-runs them all.
"""

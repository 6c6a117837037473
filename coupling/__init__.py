"""The coupling model: networks, losses, metrics and the LightningModule that trains them.

Owns everything between a batch from the datamodule and a 0-5 pair score: the attention-coupled
network (nets/attention.py), the baselines (MLP, linear S/T, gradient-boosted trees), the
score-reweighted loss, the ranking metrics and the semantic feature groups (groups.py).
docs/model.md describes the network and the loss.
"""

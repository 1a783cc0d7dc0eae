"""Magenta's training schedules as functions of the global step (reference/musicvae.md §1, §3.3, §3.7)."""

import math

__all__ = ["beta", "sampling_probability", "learning_rate"]


def beta(config, step):
    """KL weight at ``step``: ``(1 - beta_rate ** step) * max_beta`` (0 at step 0 when beta_rate is 0)."""
    return (1.0 - config.beta_rate**step) * config.max_beta


def sampling_probability(config, step):
    """Probability that a decoder input is the model's own sample rather than the ground truth.

    ``constant``: ``sampling_rate``; ``inverse_sigmoid``: ``1 - k / (k + exp(step / k))`` with
    ``k = sampling_rate``; ``exponential``: ``1 - sampling_rate ** step``.
    """
    if config.sampling_schedule == "inverse_sigmoid":
        k = config.sampling_rate
        ratio = step / k
        return 1.0 if ratio > 700 else 1.0 - k / (k + math.exp(ratio))
    if config.sampling_schedule == "exponential":
        return 1.0 - config.sampling_rate**step
    return config.sampling_rate


def learning_rate(config, step):
    """``(learning_rate - min_learning_rate) * decay_rate ** step + min_learning_rate``."""
    return (config.learning_rate - config.min_learning_rate) * config.decay_rate**step + config.min_learning_rate

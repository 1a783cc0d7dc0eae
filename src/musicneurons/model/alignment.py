"""Latent alignment: rotate the noise neurons so that the few directions their mu still spans lie on single axes.

A diagonal-Gaussian VAE that is short of training leaves a small code spread thinly over hundreds of neurons
(each with mean sigma near 1 and a small var(mu)): the prior and the decoder are rotation-invariant, so gradient
descent turns that code towards the axes only slowly. The rotation below makes the turn in one step and changes
nothing the decoder computes from mu: the encoder's mu layer is rotated by R and every weight that reads z by
R's transpose, so ``decode(encode_mu(x))`` is unchanged. Sigma stays per axis, so training must go on after a
rotation for the posterior's sigma to follow (the newly aligned axes narrow, the rest widen towards 1).
"""

import numpy as np
import torch

from .metrics import sigma_jump

__all__ = ["ALIGN_WINDOWS", "align_to_noise_axes", "noise_principal_axes", "noise_rotation", "rotate_latent"]

#: Windows encoded to find the noise block's principal directions during training.
ALIGN_WINDOWS = 8000


def noise_principal_axes(mu, sigma):
    """The noise block of n windows' mu and sigma (n, z) and its principal axes, largest variance first.

    Music neurons are those below the largest jump in sorted mean sigma
    (:func:`musicneurons.model.metrics.sigma_jump`); the rest are the noise block.

    Returns
    -------
    noise : ndarray of shape (k,), int64
        The noise neurons, ascending.
    centre : ndarray of shape (k,), float64
        Their mean mu.
    singular : ndarray of shape (min(n, k),), float64
        Singular values of the centred block (``singular**2 / n`` is the variance along each axis).
    axes : ndarray of shape (k, k), float64
        Row j: the j-th principal direction of the centred block, in the coordinates of ``noise``.
    """
    mu = np.asarray(mu, np.float64)
    mean_sigma = np.asarray(sigma, np.float64).mean(axis=0)
    n_music, _ = sigma_jump(mean_sigma)
    noise = np.sort(np.argsort(mean_sigma, kind="stable")[n_music:])
    centre = mu[:, noise].mean(axis=0)
    _, singular, axes = np.linalg.svd(mu[:, noise] - centre, full_matrices=True)
    return noise, centre, singular, axes


def noise_rotation(mu, sigma):
    """The orthogonal (z, z) float64 matrix that keeps the music neurons and turns the noise block onto its PCA axes.

    ``R @ mu_i`` is the rotated mean of window i (``mu``, ``sigma``: (n, z)): identity on the music neurons; on the
    noise block (:func:`noise_principal_axes`), row j is the j-th principal direction, written into the noise
    neurons in their original order.
    """
    noise, _, _, axes = noise_principal_axes(mu, sigma)
    rotation = np.eye(np.shape(mu)[1])
    rotation[np.ix_(noise, noise)] = axes
    return rotation


@torch.no_grad()
def rotate_latent(model, rotation):
    """Rotate ``model``'s latent space in place by the orthogonal (z, z) ``rotation``: mu -> R mu, z-readers -> W R^T."""
    r = torch.as_tensor(rotation, dtype=torch.float64)
    if r.shape != (model.config.z_size,) * 2 or not torch.allclose(
        r @ r.T, torch.eye(len(r), dtype=r.dtype), atol=1e-8
    ):
        raise ValueError(f"rotation must be an orthogonal ({model.config.z_size}, {model.config.z_size}) matrix")
    mu = model.encoder.mu
    mu.weight.copy_((r @ mu.weight.double()).to(mu.weight.dtype))
    mu.bias.copy_((r @ mu.bias.double()).to(mu.bias.dtype))
    for weight in _z_readers(model):
        weight.copy_((weight.double() @ r.T).to(weight.dtype))
    return model


def align_to_noise_axes(model, events, seed=0, n=ALIGN_WINDOWS):
    """Rotate ``model`` in place onto the noise axes of up to ``n`` windows of ``events`` (N, T) int8 (a seeded sample); returns R."""
    sample = events[np.sort(np.random.default_rng([seed, 2]).permutation(len(events))[:n])]
    was_training = model.training
    mu, sigma = model.eval().encode(sample)
    rotation = noise_rotation(mu, sigma)
    rotate_latent(model, rotation)
    model.train(was_training)
    return rotation


def _z_readers(model):
    """The weight blocks (out, z) that multiply z: the decoder's initial-state layer and, when flat, the z share of its input."""
    decoder = model.decoder
    if model.config.hierarchical:
        return [decoder.conductor_initial_state.weight]
    return [decoder.initial_state.weight, decoder.rnn.weight_ih_l0[:, decoder.n_classes :]]

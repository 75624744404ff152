"""A tiny untrained LCOM bundle built in code (random weights, seeded), for fast model-layer tests."""

from __future__ import annotations

import torch

from ase_lcom.models.bundle import BundledSurrogate, LCOMModel, SeedBank
from ase_lcom.models.cdvae import CDVAE, CDVAEConfig
from ase_lcom.models.checkpoints import surrogate_content
from ase_lcom.models.decoder import DecoderConfig
from ase_lcom.models.encoder import EncoderConfig
from ase_lcom.models.surrogate import EnergySurrogate, SurrogateConfig

LATENT_DIM = 8
TINY_CDVAE = CDVAEConfig(
    encoder=EncoderConfig(hidden=16, num_blocks=1, int_emb=8, basis_emb=4, out_emb=16, cutoff=5.0, max_neighbors=8,
                          latent_dim=LATENT_DIM),
    decoder=DecoderConfig(hidden=16, num_blocks=1, int_emb=8, basis_emb=4, cutoff=5.0, max_neighbors=8,
                          latent_dim=LATENT_DIM, num_noise_levels=10),
    lattice_hidden=16,
)
SEARCH = {"steps": 5, "step_lr": 0.5}


def random_model(seed: int = 0, name: str = "tiny-random") -> LCOMModel:
    """CD-VAE and two whitened surrogates with seeded random weights, and a seed bank of four NaCl latents."""
    generator = torch.Generator().manual_seed(seed)
    latents = torch.randn(16, LATENT_DIM, generator=generator) * 0.5 + 0.1
    energies = torch.randn(16, generator=generator) * 0.3 - 1.0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        cdvae = CDVAE(TINY_CDVAE)
        surrogates = {}
        for which in ("coms", "sl"):
            model = EnergySurrogate(SurrogateConfig(latent_dim=LATENT_DIM, hidden=16, whiten_latents=True))
            model.fit_scaler(energies, latents)
            record = {"config": {"conservative": which == "coms", **SEARCH}, "model_config": model.cfg.to_dict(),
                      "history": []}
            surrogates[which] = BundledSurrogate.from_content(surrogate_content(model, record), which)
    seeds = SeedBank(latents[:4], ["NaCl"] * 4, torch.tensor([2, 2, 8, 8]), energies[:4])
    return LCOMModel(cdvae, surrogates, seeds, {"data": "random"}, name=name)

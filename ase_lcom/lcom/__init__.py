"""LCOM: latent conservative objective models (bundle, predictors, ASE dynamics)."""

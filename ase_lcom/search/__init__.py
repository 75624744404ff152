"""Structure search baselines (GN-OA random search, particle swarm, Bayesian optimisation; AIRSS)."""

"""Engine knowledge: the custom resources Moka runs and, per engine, how to read them."""

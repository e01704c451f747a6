"""Learning from work: session cache, corrections, codify, episodes, reflection, retention."""

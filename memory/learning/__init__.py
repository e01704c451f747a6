"""Learning from work: session cache, corrections, codify, episodic memory, reflection, retention."""

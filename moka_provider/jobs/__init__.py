"""Engine-neutral job pieces shared by the operators, the sensor and the trigger."""

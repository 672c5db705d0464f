"""The four stages of the recogniser, one file each: transformation, feature extraction,
sequence modeling and prediction."""

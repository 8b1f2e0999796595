"""Video I/O, UCF101/HMDB51 datasets, official and group-aware splits, frame sampling and the frame cache."""

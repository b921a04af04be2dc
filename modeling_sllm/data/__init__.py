"""Data: the data arguments (`arguments`), rows from video sources and their pre-flight check (`sources`), rows to
model inputs (`inputs`: the video transform and the collate function), and the clip augmentation (`augmentation`)."""

"""Stage 5: training and prediction of the singer classifiers."""

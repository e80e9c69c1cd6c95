"""The lecture's worked examples, each a function that returns its numbers.

One module per example, each with the computation, `describe` (the text the CLI prints) and
`plot` (the figures):

    forward             forward()            inference in the lecture's network
    backprop            backprop()           its gradients, by hand and by GradientTape
    manual_regression   manual_regression()  the lab's 1→64→1 ReLU fit with hand gradients
    descent             descent()            batch against per-sample descent on dataset-1
    lr                  learning_rates()     η_opt = 1/λ_max and divergence past 2·η_opt
    optimizers          optimizers()         SGD, momentum, Nesterov, RMSprop, Adam on two surfaces
    overfitting         overfitting()        the U of test error against capacity, three cures
    landscape           landscape()          the loss around a trained model (Li et al., 2018)
    lr_find             lr_find()            the learning-rate range test

    >>> from zoo.explain.forward import forward
    >>> [round(v, 2) for v in forward().outputs]
    [0.35, 0.85]

Nothing is imported here (the functions share their modules' names); TensorFlow loads only in
the examples that use it.
"""

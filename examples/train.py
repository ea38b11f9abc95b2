"""An example training function: a tiny least-squares fit, in plain Python."""

from fnrun import RunContext
from fnrun.artifacts import ChartArtifact


def train(
    context: RunContext, slope: float = 2.0, noise: float = 0.1, points: int = 50, seed: int = 1
) -> float:
    """Fit y = a*x + b to generated points and log the fit.

    :param slope: the true slope of the generated data
    :param noise: the noise amplitude
    :param points: how many points to generate
    :param seed: random seed
    :returns: the mean squared error of the fit
    """
    import random

    rng = random.Random(seed)
    xs = [i / points for i in range(points)]
    ys = [slope * x + 1.0 + rng.uniform(-noise, noise) for x in xs]
    mean_x, mean_y = sum(xs) / points, sum(ys) / points
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    var = sum((x - mean_x) ** 2 for x in xs)
    a = cov / var
    b = mean_y - a * mean_x
    mse = sum((a * x + b - y) ** 2 for x, y in zip(xs, ys, strict=True)) / points
    print(f"fitted slope={a:.4f} intercept={b:.4f} on {points} points")
    context.log_results({"slope": round(a, 6), "intercept": round(b, 6)})
    context.set_label("model", "linear")
    chart = ChartArtifact("fit", header=["x", "observed", "fitted"])
    for x, y in zip(xs, ys, strict=True):
        chart.add_row([round(x, 4), round(y, 4), round(a * x + b, 4)])
    context.log_artifact(chart)
    context.log_model(
        "line",
        body=f"{a} {b}".encode(),
        metrics={"mse": mse},
        parameters={"slope": slope, "noise": noise},
        framework="plain-python",
    )
    return mse

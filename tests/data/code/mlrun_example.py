"""MLRun's documented example job, with ``fnrun`` for ``mlrun``."""

import pandas as pd

import fnrun
from fnrun.artifacts import ChartArtifact


def my_job(context, p1=1, p2="x"):
    print(f"Run: {context.name} (uid={context.uid})")
    print("accesskey = {}".format(context.get_secret("ACCESS_KEY")))
    print("file\n{}\n".format(context.get_input("infile.txt", "infile.txt").get()))
    context.log_result("accuracy", p1 * 2)
    context.log_result("loss", p1 * 3)
    context.set_label("framework", "sklearn")
    context.log_artifact(
        "model", body=b"abc is 123", local_path="model.txt", labels={"framework": "xgboost"}
    )
    context.log_artifact("html_result", body=b"<b> Some HTML <b>", local_path="result.html")
    chart = ChartArtifact("chart")
    chart.labels = {"type": "roc"}
    chart.header = ["Epoch", "Accuracy", "Loss"]
    for i in range(1, 8):
        chart.add_row([i, i / 20 + 0.75, 0.30 - i / 20])
    context.log_artifact(chart)
    raw_data = {
        "first_name": ["Jason", "Molly", "Tina", "Jake", "Amy"],
        "age": [42, 52, 36, 24, 73],
        "testScore": [25, 94, 57, 62, 70],
    }
    df = pd.DataFrame(raw_data, columns=["first_name", "age", "testScore"])
    context.log_dataset("mydf", df=df, stats=True)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["with"]:
        with fnrun.get_or_create_ctx("train") as ctx:
            my_job(ctx, p1=ctx.get_param("p1", 1))
    else:
        ctx = fnrun.get_or_create_ctx("train")
        my_job(ctx, p1=ctx.get_param("p1", 1))

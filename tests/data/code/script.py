"""A __main__ script that uses get_or_create_ctx, as MLRun scripts do."""

import fnrun

if __name__ == "__main__":
    context = fnrun.get_or_create_ctx("train")
    p1 = context.get_param("p1", 1)
    print(f"script p1={p1}")
    context.log_result("accuracy", p1 * 2)

"""pytest's nbmake plugin runs every notebook here; one is left to the test that reads its outputs.

``results_in_a_notebook.ipynb`` is executed by ``tests/test_notebook_display.py``
through nbmake's own runner (``nbmake.nb_run.NotebookRun``, what the plugin's
items call), which then checks the progress bar and the HTML tables in the
executed outputs; collecting it here too would start a second kernel for nothing.
"""
collect_ignore = ["results_in_a_notebook.ipynb"]

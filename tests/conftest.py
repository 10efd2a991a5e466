import pytest
import torch

# Timings and results do not depend on thread count; one thread keeps CI's two cores calm.
torch.set_num_threads(1)

# `make unit` runs the fast loop: pytest -m "not browser and not slow".  These need more:
BROWSER = {"test_book_browser.py", "test_pdf.py", "test_grading_browser.py"}   # built book, PDFs, Chromium
NEEDS_BUILT_BOOK = {"test_built_bibliography_lists_every_cited_work"}
SLOW = {"test_grading.py", "test_grading_attacks.py", "test_remote.py", "test_grading_costs.py"}   # graded notebooks
SLOW_TESTS = {                                          # the sandbox's kernels, the book's builds, graded classes
    "test_the_kernel_runs_as_an_unprivileged_user_in_its_own_pid_namespace",
    "test_the_kernel_sees_its_own_folder_but_not_the_course_repository_home_or_tmp",
    "test_the_package_and_python_are_read_only_and_a_forbidden_module_cannot_be_imported",
    "test_no_network_not_even_the_hosts_loopback", "test_limits_on_memory_file_size_disk_and_processes",
    "test_nothing_the_notebook_starts_outlives_its_kernel", "test_the_scratch_folder_is_private_and_removed",
    "test_the_real_sandbox_starts_here",
    "test_grading_a_class_twice_gives_the_same_outputs_cell_by_cell",
    "test_the_solution_passes_nbgrader_validate_and_grades_without_a_note",
    "test_honest_work_gets_full_marks_and_each_mistake_loses_its_question",
    "test_different_students_get_different_inputs", "test_the_batch_finishes_whatever_is_handed_in",
    "test_no_warning_for_test_cells_left_as_released", "test_written_answers_say_not_graded_yet_until_graded_by_hand",
    "test_roster_gives_formgrader_the_students_names",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.path.name
        name = getattr(item, "originalname", None) or item.name
        if module in BROWSER or name in NEEDS_BUILT_BOOK:
            item.add_marker(pytest.mark.browser)
        if module in SLOW or name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)

"""A small stand-in of Deadline's plugin API, enough to run examples/farm/deadline/FaceTrain/ outside
Deadline (the real API ships only inside a Deadline installation). It follows the documented
behaviour the plugin relies on: callbacks registered with +=, regex handlers fed each line of the
process's stdout (not stderr), FailRender raising, RepositoryUtils' path mapping, FailJob and bad
worker list. See run_task.py."""

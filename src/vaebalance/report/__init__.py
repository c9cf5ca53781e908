"""Reports: one self-contained ``report.html`` per run or sweep, and the plots in it."""

from .html import try_write_report as try_write_report
from .html import write_report as write_report
from .sweep_page import write_plots as write_plots

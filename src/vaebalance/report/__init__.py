"""Reports: one self-contained ``report.html`` per run or sweep, and the plots in it."""

from .html import write_report as write_report

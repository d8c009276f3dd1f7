# exercise: ex02_specaugment
# expect: zero
# The process ends itself before the answers can be collected.
# %% [added]
import os
os._exit(3)

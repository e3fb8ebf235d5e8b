from .fabric import *
from .inventory import *
from .mirror import *
from .runs import *
from .scheduling import *

"""`ieclid review`: an annotator goes through extractions with the keyboard; nothing is lost."""

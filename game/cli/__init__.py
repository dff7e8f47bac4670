"""The `dreamreel` command line: window and terminal play, saves, models, worlds and eval."""

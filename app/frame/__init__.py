"""The window's frame: menus and their actions, docks and the layout that fits every screen, the
theme, help, model files and the model menu, undo and redo."""

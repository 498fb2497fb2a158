# tests: rules added by its component

# cli: rules added by its component

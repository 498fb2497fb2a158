# data: rules added by its component

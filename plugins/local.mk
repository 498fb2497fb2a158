# plugins: rules added by its component

/*
 * filefield.c — file arguments as dialog rows (see filefield.h).
 */
#include "filefield.h"

typedef struct {
    GimpProcedureConfig *config;
    gchar *property;
    GtkWidget *chooser;
} FileField;

static void field_free(gpointer data, GClosure *closure) {
    (void)closure;
    FileField *f = data;
    g_free(f->property);
    g_free(f);
}

static void on_file_set(GtkFileChooser *chooser, FileField *f) {
    GFile *file = gtk_file_chooser_get_file(chooser);
    g_object_set(f->config, f->property, file, NULL);
    g_clear_object(&file);
}

static void on_clear(GtkButton *button, FileField *f) {
    (void)button;
    gtk_file_chooser_unselect_all(GTK_FILE_CHOOSER(f->chooser));
    g_object_set(f->config, f->property, NULL, NULL);
}

GtkWidget *filefield_grid(void) {
    GtkWidget *grid = gtk_grid_new();
    gtk_grid_set_row_spacing(GTK_GRID(grid), 4);
    gtk_grid_set_column_spacing(GTK_GRID(grid), 6);
    gtk_widget_show(grid);
    return grid;
}

void filefield_add(GtkWidget *grid, GimpProcedureConfig *config, const gchar *property, const gchar *label,
                   gboolean optional) {
    gint row = 0;
    while (gtk_grid_get_child_at(GTK_GRID(grid), 0, row)) row++;
    GParamSpec *pspec = g_object_class_find_property(G_OBJECT_GET_CLASS(config), property);
    GtkWidget *l = gtk_label_new_with_mnemonic(label);
    gtk_widget_set_halign(l, GTK_ALIGN_START);
    GtkWidget *chooser = gtk_file_chooser_button_new(label, GTK_FILE_CHOOSER_ACTION_OPEN);
    gtk_widget_set_hexpand(chooser, TRUE);
    gtk_label_set_mnemonic_widget(GTK_LABEL(l), chooser);
    if (pspec) gtk_widget_set_tooltip_text(chooser, g_param_spec_get_blurb(pspec));
    GFile *file = NULL;
    g_object_get(config, property, &file, NULL);
    if (file) gtk_file_chooser_set_file(GTK_FILE_CHOOSER(chooser), file, NULL);
    g_clear_object(&file);

    FileField *f = g_new0(FileField, 1);
    f->config = config;
    f->property = g_strdup(property);
    f->chooser = chooser;
    g_signal_connect_data(chooser, "file-set", G_CALLBACK(on_file_set), f, field_free, 0);
    gtk_grid_attach(GTK_GRID(grid), l, 0, row, 1, 1);
    gtk_grid_attach(GTK_GRID(grid), chooser, 1, row, 1, 1);
    if (optional) {
        GtkWidget *clear = gtk_button_new_from_icon_name("edit-clear", GTK_ICON_SIZE_BUTTON);
        gtk_widget_set_tooltip_text(clear, "Unset");
        g_signal_connect(clear, "clicked", G_CALLBACK(on_clear), f);
        gtk_grid_attach(GTK_GRID(grid), clear, 2, row, 1, 1);
    }
    gtk_widget_show_all(grid);
}

namespace ChatServer.Data;

public enum ChatDatabaseProvider
{
    Sqlite,
    PostgreSql,
}
